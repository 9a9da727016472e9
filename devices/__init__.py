"""The LAN side of Feature Coach: find Xiaomi devices, identify them, read what they can do.

A small library on top of python-miio. It knows nothing of Flask, SQL or the scheduler.
"""
