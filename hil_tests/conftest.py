"""The HIL suite runs against one board and one rig: `edgekit hil run --board B --rig R` (or
`pytest hil_tests --board B --rig R [--model M] [--port P] [--hil-out DIR]`).

Options, fixtures, figure/check recording, the verdict, results.json and report.html all live in
one plugin, edgekit.hil.plugin. A test whose measurement this checkout or rig cannot make does not
run (NotRun, with the reason) and the run is INCOMPLETE; it never substitutes a made-up number.
"""
pytest_plugins = ["edgekit.hil.plugin"]
