"""Plain-Python resource code: drives the docker SDK, knows nothing of Cloudify."""
