#!/usr/bin/env bash
# Builds the GPU sampler benchmark (issue 12) as a self-contained folder that runs on a Linux x64 machine with an NVIDIA GPU
# and no .NET SDK: the benchmarks program against Microsoft.ML.OnnxRuntime.Gpu (-p:OnnxRuntimeFlavor=Gpu), the .NET runtime,
# and the shipped models. The GPU machine needs the CUDA 13 runtime libraries and cuDNN 9 (ONNX Runtime 1.31's CUDA provider).
#   bash benchmarks/gpu/publish.sh [out=artifacts/gpu-bench]
#   then, on the GPU machine:  cd <out> && ./run.sh        (or ./MLExtensions.Diffusion.Benchmarks gpu-sampler [rows] [rounds])
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-artifacts/gpu-bench}
rm -rf "$out"
dotnet publish benchmarks/MLExtensions.Diffusion.Benchmarks -c Release -r linux-x64 --self-contained \
  -p:OnnxRuntimeFlavor=Gpu -o "$out"
mkdir -p "$out/models"
for m in penguins mixture; do mkdir -p "$out/models/$m"; cp "models/$m/model.zip" "$out/models/$m/"; done
cp benchmarks/gpu/run.sh "$out/run.sh"
chmod +x "$out/run.sh" "$out/MLExtensions.Diffusion.Benchmarks"
du -sh "$out"
