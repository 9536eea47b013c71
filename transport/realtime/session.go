package realtime

import (
	"encoding/json"

	"github.com/ominix/ominix-api/pipeline"
)

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
		if m.dialect == Beta {
			return m.realtimeBeta(expires)
		}
		return m.realtimeGA(expires, input)
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

// realtimeGA is the GA conversation session object.
func (m *Machine) realtimeGA(expires int64, input AudioInputGA) *RealtimeSessionGA {
	input.TurnDetection = m.turnFlags()
	if !m.cc.transcripts {
		input.Transcription = nil
	}
	return &RealtimeSessionGA{Type: SessionRealtime, ID: m.id, Object: objectRealtimeSession, ExpiresAt: expires,
		Model: m.opts.Model, OutputModalities: m.modalities(), Instructions: m.cc.instructions,
		Audio: AudioGA{Input: input, Output: &AudioOutputGA{Format: gaFormat(m.cc.format), Voice: m.cc.voice,
			Speed: m.cc.speed}},
		MaxOutputTokens: maxTokensValue(m.cc.maxTokens), Tools: toolObjects(m.cc.tools),
		ToolChoice: toolChoiceValue(m.cc.toolChoice), Include: m.include}
}

// realtimeBeta is the beta conversation session object.
func (m *Machine) realtimeBeta(expires int64) *RealtimeSessionBeta {
	s := &RealtimeSessionBeta{ID: m.id, Object: objectRealtimeSession, ExpiresAt: expires, Model: m.opts.Model,
		Modalities: m.modalities(), Instructions: m.cc.instructions, Voice: m.cc.voice,
		InputAudioFormat: betaFormatName(m.format), OutputAudioFormat: betaFormatName(m.cc.format),
		TurnDetection: m.turnFlags(), InputAudioNoiseReduction: m.noise, Speed: m.cc.speed,
		Temperature: m.cc.temperature, MaxResponseOutputTokens: maxTokensValue(m.cc.maxTokens),
		Tools: toolObjects(m.cc.tools), ToolChoice: m.cc.toolChoice.Mode, Include: m.include}
	if m.cc.transcripts {
		s.InputAudioTranscription = m.transcription()
	}
	return s
}

// turnFlags is the turn detection of a conversation session, with
// create_response and interrupt_response.
func (m *Machine) turnFlags() *TurnDetectionGA {
	if m.turn == nil {
		return nil
	}
	t := *m.turn
	t.CreateResponse, t.InterruptResponse = ptr(m.cc.create), ptr(m.cc.interrupt)
	return &t
}

func maxTokensValue(n int) any {
	if n <= 0 {
		return "inf"
	}
	return n
}

func toolObjects(tools []pipeline.Tool) []ToolObject {
	out := make([]ToolObject, 0, len(tools))
	for _, t := range tools {
		o := ToolObject{Type: "function", Name: t.Name, Description: t.Description}
		if len(t.Parameters) > 0 {
			o.Parameters = json.RawMessage(t.Parameters)
		}
		out = append(out, o)
	}
	return out
}

func toolChoiceValue(c pipeline.ToolChoice) any {
	if c.Mode == "function" {
		return map[string]string{"type": "function", "name": c.Name}
	}
	if c.Mode == "" {
		return "auto"
	}
	return c.Mode
}
