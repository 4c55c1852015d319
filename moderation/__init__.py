"""Questions, sessions, their states, the store and the register."""
