"""Shadow mode: capture on the car, pull home, retrain, and the loop that improves the pilot."""
