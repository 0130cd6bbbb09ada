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
# mount your own file over /etc/worldloom/config.toml to change anything.

FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04

ARG TORCH_VERSION=2.5.1
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu124

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
    && pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX}"

WORKDIR /app
COPY pyproject.toml README.md config.example.toml ./
COPY bot ./bot
COPY engine ./engine
RUN pip install '.[diffusion]'

RUN useradd --create-home --uid 1000 worldloom \
    && mkdir -p /cache/huggingface /data /etc/worldloom \
    && sed -e 's|^database = .*|database = "/data/worldloom.db"|' \
           -e 's|^renderer = .*|renderer = "diffusion"|' \
           config.example.toml > /etc/worldloom/config.toml \
    && chown -R worldloom /cache /data
USER worldloom
VOLUME ["/cache/huggingface", "/data"]

ENTRYPOINT ["tini", "--"]
CMD ["worldloom", "run"]
