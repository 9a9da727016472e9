"""The home's side of the community hub: joining, the signed weekly report, the cached table, owner tips."""
