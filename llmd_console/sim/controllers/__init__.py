"""Controllers that make the simulated world move."""
