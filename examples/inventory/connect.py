"""What every pyvmomi example here shares: connect and log in from the command line.

  /usr/bin/python3 examples/inventory/<example>.py <sdk-url> <ca.pem> <user>   (password in VC_PASSWORD)
"""
import os
import ssl
import sys
from urllib.parse import urlsplit

from pyVim.connect import SmartConnect


def connect():
    url, ca, user = sys.argv[1:4]
    u = urlsplit(url)
    return SmartConnect(host=u.hostname, port=u.port or 443, path=u.path or '/sdk', user=user,
                        pwd=os.environ['VC_PASSWORD'], sslContext=ssl.create_default_context(cafile=ca))
