"""The single-neuron chain explorer (`vgrad-tui chain`): its app and widgets."""
