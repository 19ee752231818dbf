"""The car's simulated twin: tracks, a 1/10 car, a camera renderer, an expert driver, DonkeyCar
tub v2 recordings, closed-loop driving of a pilot model and the drive-power model. One loop
(`edgekit.sim.loop`) runs them all: a world driven by a policy(frame, state).

Everything here is `modelled` (a simulation), except wall-clock speeds (`measured-host`).
"""
