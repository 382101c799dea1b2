# The lab as one container: docker build -t fm-lab . && docker run -p 8501:8501 fm-lab
# CPU only; the shipped models in assets/ are inside the image, nothing is downloaded at run time.
FROM python:3.11-slim

# Idle OpenMP threads sleep instead of spinning (two trainings side by side otherwise starve
# each other); at most FMLAB_MAX_TRAININGS trainings run at once, the rest queue.
ENV OMP_WAIT_POLICY=PASSIVE \
    FMLAB_MAX_TRAININGS=2 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY requirements.txt .
# The CPU build of torch first (PyPI's Linux wheel is the CUDA build, gigabytes larger).
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install -r requirements.txt

COPY app.py ./
COPY .streamlit ./.streamlit
COPY assets ./assets
COPY fmcore ./fmcore
COPY lessons ./lessons
COPY ui ./ui

RUN useradd --create-home lab
USER lab
EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"
# .streamlit/config.toml binds to 127.0.0.1 for a laptop; in a container listen on every address.
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
