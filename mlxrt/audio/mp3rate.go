package audio

// mp3Rates are the sample rates of MPEG-1 and MPEG-2 Layer III. MPEG-2.5
// (8 to 12 kHz) is left out: many decoders, go-mp3 among them, lack it.
var mp3Rates = []int{16000, 22050, 24000, 32000, 44100, 48000}

// mp3Rate is the smallest MP3 rate at or above rate (16 to 48 kHz).
func mp3Rate(rate int) int {
	for _, r := range mp3Rates {
		if r >= rate {
			return r
		}
	}
	return 48000
}

// mp3Bitrate is the constant bitrate (kbit/s) used for mono speech.
func mp3Bitrate(rate int) int {
	if rate <= 24000 {
		return 64
	}
	return 128
}
