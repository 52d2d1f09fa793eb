"""The torch side: structured layers, models, training loops and model surgery."""
