"""Running a play on live bars: the runners (shadow, paper, demo, testnet, live), wiring."""
