"""The book's figures and what vgrad measures against them: reproduce, accuracy, chain, presets, lenses."""
