# worldloom on a CUDA GPU: `worldloom run` with the diffusion renderer.
#
#   docker build -t worldloom .
#   docker run --gpus all -e DISCORD_TOKEN=... \
#     -v worldloom-hf:/cache/huggingface -v worldloom-data:/data \
#     -v "$PWD/config.toml:/etc/worldloom/config.toml:ro" worldloom
#
# The model is downloaded into the Hugging Face cache volume on the first start and reused after
# that; the SQLite database and the image blobs live on the data volume. Secrets come from the
# environment only (DISCORD_TOKEN, SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET).
# The image carries config.example.toml with renderer = "diffusion" and the database on /data;
# mount your own file over /etc/worldloom/config.toml to change anything. Its model is FLUX.2
# [klein] 4B (Apache-2.0): about 20 GB of GPU memory, 13 GB with offload = "model"; on smaller
# GPUs set model = "stable-diffusion-v1-5/stable-diffusion-v1-5" (docs/engine.md lists the rest).

# CUDA 12.8: the first toolkit with Blackwell (sm_120) kernels; runs Ampere, Ada and Hopper too.
FROM nvidia/cuda:12.8.1-runtime-ubuntu22.04

# diffusers 0.42 and transformers 5 need torch >= 2.6. torchvision comes from the same index:
# transformers' Qwen2-VL and Pixtral processors (Qwen-Image-Edit, FLUX.2 [dev]) need it.
ARG TORCH_VERSION=2.8.0
ARG TORCHVISION_VERSION=0.23.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu128

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HOME=/cache/huggingface \
    WORLDLOOM_CONFIG=/etc/worldloom/config.toml

RUN apt-get update \
    && apt-get install -y --no-install-recommends software-properties-common \
    && add-apt-repository -y ppa:deadsnakes/ppa \
    && apt-get update \
    && apt-get install -y --no-install-recommends python3.11 python3.11-venv fonts-dejavu-core tini \
    && rm -rf /var/lib/apt/lists/*

RUN python3.11 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# torch first, from the CUDA index that matches the base image; the project's `diffusion`
# extra then finds it installed instead of resolving a different build.
RUN pip install --upgrade pip \
    && pip install "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}" --index-url "${TORCH_INDEX}"

WORKDIR /app
COPY pyproject.toml README.md config.example.toml ./
COPY bot ./bot
COPY engine ./engine
RUN pip install '.[diffusion,moderation]'

RUN useradd --create-home --uid 1000 worldloom \
    && mkdir -p /cache/huggingface /data /etc/worldloom \
    && sed -e 's|^database = .*|database = "/data/worldloom.db"|' \
           -e 's|^renderer = .*|renderer = "diffusion"|' \
           -e '/^\[engine\]/,/^\[llm\]/ s|^model = .*|model = "black-forest-labs/FLUX.2-klein-4B"|' \
           config.example.toml > /etc/worldloom/config.toml \
    && chown -R worldloom /cache /data
USER worldloom
VOLUME ["/cache/huggingface", "/data"]

ENTRYPOINT ["tini", "--"]
CMD ["worldloom", "run"]
