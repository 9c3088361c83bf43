# JupyterLab for the course, the same set-up as `make lab` but in a container.
# Build and start with `docker compose up lab` (docker-compose.yml also starts TF Serving); VS Code and
# Codespaces build the same image from .devcontainer/devcontainer.json.

# Pinned to a full version tag so a rebuild months later gives the same Python. The course supports
# Python 3.11 to 3.13 (pyproject.toml, course/doctor.py); the image takes the newest of them.
# Bump it deliberately (and re-run the tests and notebooks); tests check it stays in that range.
FROM python:3.13.9-slim-trixie

# DVC drives git, and the slim image has none. --no-install-recommends keeps out perl and friends;
# removing the apt lists keeps them out of the layer.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

# The course folder is bind-mounted from the host and may belong to another uid than 1000; without
# this, git (and so DVC) stops with "detected dubious ownership in repository".
RUN git config --system --add safe.directory /home/learner/course

# No .pyc files in the mounted course folder; no pip cache or version nag in the image.
# JUPYTER_TOKEN: the workshop's documented default token; jupyter_server reads this variable itself.
# TF_SERVING_URL: the model server's REST address as seen from inside compose (service name `serving`).
# JUPYTER_CONFIG_PATH: the course's JupyterLab settings (no internet look-ups, open on notebooks/), as
# the Makefile exports it. jupyter-config/ is not copied into the image: it arrives with the course
# folder, which docker-compose.yml (and .devcontainer/devcontainer.json) bind-mount at /home/learner/course.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    JUPYTER_TOKEN=workshop \
    TF_SERVING_URL=http://serving:8501 \
    JUPYTER_CONFIG_PATH=/home/learner/course/jupyter-config

# Jupyter and the kernels run as an ordinary user, not root. uid 1000 is the first user on most Linux
# laptops, so files written to the bind-mounted course folder belong to the participant.
RUN useradd --create-home --home-dir /home/learner --uid 1000 --shell /bin/bash learner

WORKDIR /home/learner/course

# Requirements first, in their own layer: editing the course's code or notebooks then does not
# re-download TensorFlow; only a change to requirements.lock does. Exactly what `make install` installs:
# every package the lock names for this Python and platform, each hash checked, nothing resolved here.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

# The course's own packages (workshop_lib, model_server, course), editable (like `make install`): the
# imports then point into /home/learner/course, which is what the bind mount replaces with the host's copy.
# README.md is copied because pyproject.toml names it as the package's readme. Built with the lock's
# setuptools (no build isolation), so nothing outside the lock is downloaded.
COPY pyproject.toml README.md ./
COPY workshop_lib/ ./workshop_lib/
COPY model_server/ ./model_server/
COPY course/ ./course/
RUN pip install --no-deps --no-build-isolation -e .

# The course's JupyterLab settings (JUPYTER_CONFIG_PATH above points here), also in the image itself so
# that it starts the same without the bind mount, which replaces this copy with the host's.
COPY jupyter-config/ ./jupyter-config/

# The notebooks' kernel, registered exactly like tools/setup.sh does. --sys-prefix puts it in the
# image's Python (needs root, hence before USER); TF_CPP_MIN_LOG_LEVEL=3 silences TensorFlow's C++
# log lines in the notebooks.
RUN python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (workshop)" \
    --env TF_CPP_MIN_LOG_LEVEL 3

# pip ran as root and wrote the .egg-info here; the learner must own the course folder.
RUN chown -R learner:learner /home/learner/course

USER learner

EXPOSE 8888

# The slim image has no curl, so Python asks Jupyter's /api (it answers without a token).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8888/api', timeout=4)"

# Inside the container Jupyter must listen on 0.0.0.0, or the published port reaches nothing;
# docker-compose.yml publishes it on the host's 127.0.0.1 only, so it is not open to the network.
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--ServerApp.root_dir=/home/learner/course"]
