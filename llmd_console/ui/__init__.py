"""The Textual console: app, panes, dialogs and the layout builder."""
