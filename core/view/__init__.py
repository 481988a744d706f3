"""How numbers read: lenses (a value per row), names, the headline, formats, the log scale, notes."""
