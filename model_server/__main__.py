"""`python -m model_server --rest_api_port=8501 --model_name=wine --model_base_path=/abs/models/wine`."""

import logging
import os
import sys

from model_server.server import main

code = main()
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
# Everything is closed by now; skip the interpreter's teardown of TensorFlow, which takes seconds.
os._exit(code)
