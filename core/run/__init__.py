"""What fills the board: the live runner, replay, the follower of growing files, and their controls."""
