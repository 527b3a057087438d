# nasrtc as a container image: the install for Synology DSM, where Docker is already
# there and Python (with pip) is not. The image holds one Python and dist/nasrtc.pyz,
# and, where the CPU and Python have them, the LiveKit SDK for `doctor --media` (nasrtc[media])
# and waitress for the web page `nasrtc web` (nasrtc[web]); tools/image_wheels.py takes wheels
# from dist/media/ and dist/web/, else pip; else the image goes without.
#
#   docker build -t nasrtc .
#   docker build --build-arg BASE=<a local Debian image with python3> -t nasrtc .
#
# When dist/nasrtc.pyz is in the build context (python3 tools/build_pyz.py), it is used
# as is; otherwise the first stage builds it (that needs pip and PyPI).
ARG BASE=python:3.12.8-slim-bookworm

FROM ${BASE} AS build
WORKDIR /src
COPY . /src
RUN if [ ! -f dist/nasrtc.pyz ]; then python3 tools/build_pyz.py; fi
RUN python3 tools/image_wheels.py media dist/media /opt/nasrtc-media
RUN python3 tools/image_wheels.py web dist/web /opt/nasrtc-web

FROM ${BASE}
COPY --from=build /src/dist/nasrtc.pyz /usr/local/lib/nasrtc/nasrtc.pyz
COPY --from=build /opt/nasrtc-media /usr/local/lib/nasrtc/media
COPY --from=build /opt/nasrtc-web /usr/local/lib/nasrtc/web
# NASRTC_IN_CONTAINER: check that the stack folder is mounted at its host path.
# NASRTC_ROOT: the host's files nasrtc reads (DSM's version file) are mounted under /host.
# PYTHONPATH: the LiveKit SDK and waitress, when the build put them in.
ENV NASRTC_IN_CONTAINER=1 \
    PYTHONPATH=/usr/local/lib/nasrtc/media:/usr/local/lib/nasrtc/web \
    NASRTC_ROOT=/host \
    PYTHONDONTWRITEBYTECODE=1 \
    LANG=C.UTF-8
ENTRYPOINT ["python3", "/usr/local/lib/nasrtc/nasrtc.pyz"]
CMD ["--help"]
