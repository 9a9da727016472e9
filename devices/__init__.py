"""The LAN side of Feature Coach: find Xiaomi devices, identify them, read what they can do.

A small library on top of python-miio. It knows nothing of Flask, SQL or the scheduler.
"""

#: The largest device id: the miIO header carries it as an unsigned 32-bit number.
MAX_DID = 2**32 - 1
