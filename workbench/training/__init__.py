"""The training engine: run specs, the Accelerate child loop, the event stream. No textual here."""
