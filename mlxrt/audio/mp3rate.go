package audio

// mp3Rates are the sample rates MPEG-1, 2 and 2.5 Layer III can carry.
var mp3Rates = []int{8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000}

// mp3Rate is the smallest MP3 rate at or above rate (48 kHz at most).
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
	switch {
	case rate <= 12000:
		return 32
	case rate <= 24000:
		return 64
	}
	return 128
}
