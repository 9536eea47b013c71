package pipeline

import "time"

// Audio is mono PCM as float32 samples in [-1, 1] at Rate samples per second.
type Audio struct {
	Rate    int       `json:"rate"`
	Samples []float32 `json:"-"`
}

// Duration is the length of the audio.
func (a Audio) Duration() time.Duration {
	if a.Rate <= 0 {
		return 0
	}
	return time.Duration(len(a.Samples)) * time.Second / time.Duration(a.Rate)
}

// Seconds is the length of the audio in seconds.
func (a Audio) Seconds() float64 {
	if a.Rate <= 0 {
		return 0
	}
	return float64(len(a.Samples)) / float64(a.Rate)
}
