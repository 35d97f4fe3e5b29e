"""One module per pane. Each pane is a widget with a `palette_commands()` method."""
