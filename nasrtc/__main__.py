import sys

from nasrtc.entry import main

sys.exit(main())
