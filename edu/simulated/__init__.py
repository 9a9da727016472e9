"""The simulated household and shop: the fleet on loopback as their network, the same code."""
