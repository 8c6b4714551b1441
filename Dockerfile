# The GPU training image: voltpeak with the CUDA torch build, vLLM, and ms-swift in its own environment.
#   docker build -t voltpeak-gpu .
#   docker run --gpus all -v $PWD/data:/work/data -v $PWD/runs:/work/runs -v $HOME/.cache/huggingface:/root/.cache/huggingface \
#       voltpeak-gpu train --config configs/qwen2.5-vl-3b.json
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential make git \
       fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /voltpeak
COPY pyproject.toml README.md LICENSE Makefile ./
COPY src ./src
COPY configs ./configs

# The main environment: PyPI's default (CUDA) torch and torchvision, then voltpeak with vLLM.
RUN python3 -m venv /opt/voltpeak \
    && /opt/voltpeak/bin/pip install torch torchvision \
    && /opt/voltpeak/bin/pip install -e '.[all,vllm]'
# ms-swift pins older transformers/trl/peft: its own environment, found by voltpeak train/predict --backend swift.
RUN make swift-env PYTHON=python3

ENV PATH=/opt/voltpeak/bin:$PATH VOLTPEAK_SWIFT=/voltpeak/.venv-swift/bin/swift
WORKDIR /work
RUN ln -s /voltpeak/configs /work/configs
ENTRYPOINT ["voltpeak"]
CMD ["--help"]
