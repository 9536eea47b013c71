#!/bin/sh
# Regenerates the decoder fixtures with tools other than our own encoders:
#   speech.wav        flite (slt voice), 16 kHz mono s16: the reference
#   speech.flac       flac CLI from speech.wav
#   speech16k.mp3     sox + LAME, 16 kHz mono (MPEG-2 Layer III), 32 kbit/s
#   speech44k.mp3     sox + LAME, 44.1 kHz stereo (MPEG-1 Layer III)
#   speech.opus       opusenc (Ogg/Opus)
#   speech-chrome.webm Chromium's MediaRecorder (WebM/Opus, unknown-size
#                     Segment and Clusters) recording speech.wav played as a
#                     fake microphone
# Needs flite, flac, sox with libsox-fmt-mp3, opus-tools, chromium, python3.
set -eu
cd "$(dirname "$0")"
flite -voice slt -t "Seven apples and three bananas on the table." -o speech.wav
flac -s -f --best -o speech.flac speech.wav
sox speech.wav -C 32 speech16k.mp3
sox speech.wav -r 44100 -c 2 -C 128 speech44k.mp3
opusenc --quiet --bitrate 32 speech.wav speech.opus

tmp=$(mktemp -d)
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
cat > "$tmp/srv.py" <<'PY'
import http.server, sys, threading
page = open(sys.argv[1], 'rb').read()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Type', 'text/html')
        self.end_headers()
        self.wfile.write(page)
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        open(sys.argv[2], 'wb').write(body)
        self.send_response(204)
        self.end_headers()
        threading.Thread(target=self.server.shutdown).start()
    def log_message(self, *a):
        pass
http.server.HTTPServer(('127.0.0.1', 8765), H).serve_forever()
PY
rm -f speech-chrome.webm
python3 "$tmp/srv.py" record-webm.html speech-chrome.webm &
srv=$!
chromium --headless=new --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" \
	--use-fake-ui-for-media-stream --use-fake-device-for-media-stream \
	--use-file-for-fake-audio-capture="$PWD/speech.wav" http://127.0.0.1:8765/ 2>/dev/null &
chrome=$!
wait $srv
kill $chrome 2>/dev/null || true
ls -l speech*
