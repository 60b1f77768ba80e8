#!/usr/bin/env bash
# Runs the GPU sampler benchmark from a folder made by publish.sh; prints the machine, then the table of gpu-sampler.
set -uo pipefail
cd "$(dirname "$0")"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
./MLExtensions.Diffusion.Benchmarks gpu-sampler "$@"
