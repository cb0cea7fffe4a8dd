"""Hardware behind small interfaces: card readers (simulated, later PC/SC) and the receipt printer."""
