package realtime

// sessionObject describes the session for a created/updated event of type
// typ: the beta transcription session for transcription_session.*, the GA
// transcription session for session.* once the session transcribes, and
// the GA conversation session before that.
func (m *Machine) sessionObject(typ string) any {
	expires := m.created.Add(m.opts.SessionLifetime).Unix()
	if typ == EventTranscriptionSessionCreated || typ == EventTranscriptionSessionUpdated {
		s := &SessionBeta{
			ID: m.id, Object: objectTranscriptionSession, ExpiresAt: expires,
			ClientSecret:             ClientSecret{},
			InputAudioFormat:         betaFormatName(m.format),
			InputAudioTranscription:  m.transcription(),
			TurnDetection:            m.turn,
			InputAudioNoiseReduction: m.noise,
			Include:                  m.include,
		}
		return s
	}
	input := AudioInputGA{
		Format:         FormatGA{Type: m.format.Type},
		Transcription:  m.transcription(),
		NoiseReduction: m.noise,
		TurnDetection:  m.turn,
	}
	if m.format.Type == FormatPCM {
		input.Format.Rate = m.format.Rate
	}
	if m.stype == SessionRealtime {
		return &RealtimeSessionGA{Type: SessionRealtime, ID: m.id, Object: objectRealtimeSession,
			ExpiresAt: expires, Model: m.opts.Model, Audio: AudioGA{Input: input}}
	}
	return &SessionGA{Type: SessionTranscription, ID: m.id, Object: objectTranscriptionSession,
		ExpiresAt: expires, Audio: AudioGA{Input: input}, Include: m.include}
}

func (m *Machine) transcription() *Transcription {
	t := m.trans
	return &t
}

func betaFormatName(f InputFormat) string {
	switch f.Type {
	case FormatPCMU:
		return BetaULaw
	case FormatPCMA:
		return BetaALaw
	}
	return BetaPCM16
}
