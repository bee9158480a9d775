"""Pulumi's entry point: `pulumi up -s <stack>` runs this file.

Pulumi.yaml names no `main`, so the engine runs the project directory itself as the program
(`runpy.run_path(".")`, which also puts this directory first on sys.path) with the project root
as the working directory, the same directory its dynamic providers start in and `pulumi install`
runs pip in. The program takes every path from its own location (infra/paths.py), not from there.
"""

from infra.program import main

main()
