"""Integration tests of the privacy room: crypto-shredding, erasure order,
orphan keys."""
