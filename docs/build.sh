#!/usr/bin/env bash
# Build the HTML documentation with warnings as errors:
#     python -m sphinx -W --keep-going -b html docs docs/_build/html
# Usage: docs/build.sh [extra sphinx options]   (from anywhere in a clone)
# Set SKLEARN_DPADS_DOCS_PLOT_GALLERY=0 to skip running the examples.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
"${PYTHON:-python}" -m sphinx -W --keep-going -b html docs docs/_build/html "$@"
echo "Open docs/_build/html/index.html"
