"""The book's figures and what vgrad measures against them: reproduce, the accuracy table, the chain, presets, lenses."""
