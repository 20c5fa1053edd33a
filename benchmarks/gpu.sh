#!/usr/bin/env bash
# The GPU checks of skstc in one run (issue #43, item 4), for a machine with a CUDA card
# that has torch, scikit-learn, sentence-transformers and pytest but reaches no package
# index. From the repository root:
#
#   here:  python benchmarks/gpu_bundle.py --out .gpu    # model and data, about 50 MB
#   there: bash benchmarks/gpu.sh .gpu "$OUT"            # about 6 minutes on an H100
#
# With the device tool: run(command='bash benchmarks/gpu.sh .gpu "$OUT"', carry=[".gpu"]).
# It writes into OUT: gpu-tests.log, embed.md (texts per second of MiniLM on the card),
# speed.md (default fits on the card in bfloat16 and float32 and on the machine's CPU
# cores, against diffusion + k-means on those cores, and the scaling rows), and log.txt
# (everything printed).
# SMOKE=1 shrinks every step to seconds (the plumbing, on any machine).
set -uo pipefail
bundle=$(cd "${1:?the bundle folder of gpu_bundle.py}" && pwd)
out=${2:?an output folder}
mkdir -p "$out"
export PYTHONPATH="$PWD:$bundle/site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export SKSTC_DATA="$bundle/data" HF_HUB_OFFLINE=1 MPLBACKEND=Agg
export SKSTC_CACHE="${SKSTC_CACHE:-${TMPDIR:-/tmp}/skstc-cache}"  # embeddings made there
python=${PYTHON:-python3}
if [[ "${SMOKE:-0}" == 1 ]]; then
  texts=(--dataset tweet --n-texts 200); sets=(tweet:minilm); sizes=(--sizes 2000)
  fits=(--repeats 1 --param max_iter=20)
else
  texts=(--dataset stackoverflow --n-texts 20000 --repeats 3)
  sets=(stackoverflow:minilm googlenews-TS:minilm clinc150:minilm stackexchange:minilm)
  sizes=(--sizes 200000 2000000); fits=(--repeats 1)
fi
(
  status=0
  date -u; nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"
  "$python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
  echo "== GPU-marked tests"
  "$python" -m pytest -m gpu -q -p no:cacheprovider tests/test_device.py 2>&1 \
    | tee "$out/gpu-tests.log" || status=1
  echo "== embedding throughput"
  "$python" benchmarks/embed_speed.py --embeddings minilm "${texts[@]}" --out "$out/embed.md" || status=1
  echo "== fit times"
  "$python" benchmarks/speed.py --default-data "${sets[@]}" "${sizes[@]}" "${fits[@]}" \
    --compare-float32 --compare cpu device=cpu --peer --quiet --tmpdir "${TMPDIR:-/tmp}" \
    --out "$out/speed.md" || status=1
  echo "== exit $status"
  exit "$status"
) 2>&1 | tee "$out/log.txt"
exit "${PIPESTATUS[0]}"
