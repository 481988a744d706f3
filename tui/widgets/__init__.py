"""The dashboard's widgets, one per module."""

from vgrad.core.view.scale import SpeedScale, shared_scale
from vgrad.tui.widgets.help_screen import HelpScreen
from vgrad.tui.widgets.layer_row import LayerRow
from vgrad.tui.widgets.net_panel import NetPanel
from vgrad.tui.widgets.neuron_bars import NeuronBars
from vgrad.tui.widgets.plot_screen import PlotScreen, SpeedPlot
from vgrad.tui.widgets.scale_legend import ScaleLegend
from vgrad.tui.widgets.status_line import StatusLine

__all__ = ["HelpScreen", "LayerRow", "NetPanel", "NeuronBars", "PlotScreen",
           "ScaleLegend", "SpeedPlot", "SpeedScale", "StatusLine", "shared_scale"]
