"""HIL bench: rigs, power monitors, the battery/range model and the report.

`edgekit hil run --board B --rig R` (host/cli/hil.py) runs the pytest suite in hil_tests/ against a
rig (rig.py) and writes junit.xml, results.json and report.html (run.py, report.py).
"""
