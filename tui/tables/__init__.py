"""The reproduce, accuracy and bench tables, rendered with rich for the terminal."""
