"""The Textual UI: app, screens, panes and widgets."""
