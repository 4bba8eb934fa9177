# An emulated `network` module for tests/firmware/test_board.py (MicroPython's documented WLAN
# API). The status codes are the ESP32 port's values, not the -3..-1 that firmware/board.py falls
# back to, so the test shows board.py takes them from the module. STATUSES: what status() says
# after connect(), one value per call (the last repeats); "up" means isconnected().
STA_IF = 0
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_CONNECT_FAIL = 203
STATUSES = [STAT_CONNECTING]
RSSI = -67


class WLAN:
    def __init__(self, interface_id):
        self.up = False
        self.calls = 0

    def active(self, is_active=None):
        return True

    def connect(self, ssid, key):
        self.calls = 0

    def status(self, param=None):
        if param == "rssi":
            return RSSI
        status = STATUSES[min(self.calls, len(STATUSES) - 1)]
        self.calls += 1
        self.up = status == STAT_GOT_IP
        return status

    def isconnected(self):
        return self.up
