import sys

from nasrtc.cli import main

sys.exit(main())
