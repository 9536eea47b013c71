package dsp

// G.711 companding (ITU-T G.711, with the 16-bit linear scaling of the
// ITU-T G.191 software tools): μ-law codes map onto 14-bit magnitudes shifted
// left by 2, A-law onto 13-bit magnitudes shifted left by 3. Negative inputs
// are quantized through their one's complement as G.191 does, so the
// decision thresholds are symmetric about -0.5.

var (
	muLawTable [256]int16
	aLawTable  [256]int16
)

func init() {
	for c := range 256 {
		muLawTable[c] = muLawExpand(byte(c))
		aLawTable[c] = aLawExpand(byte(c))
	}
}

// muLawExpand decodes one μ-law code: the complemented code holds a sign,
// a 3-bit segment and a 4-bit step; the reconstruction level is the middle
// of the step, with the 33 bias of the μ-law curve removed.
func muLawExpand(code byte) int16 {
	c := ^code
	seg := int32(c>>4) & 7
	mant := int32(c) & 0x0F
	mag := ((2*mant+33)<<seg - 33) << 2
	if c&0x80 != 0 {
		return int16(-mag)
	}
	return int16(mag)
}

// aLawExpand decodes one A-law code (even bits inverted on the wire):
// segment 0 is linear with step 2, segment s>0 starts at 32<<(s-1).
func aLawExpand(code byte) int16 {
	c := code ^ 0x55
	seg := int32(c>>4) & 7
	mant := int32(c) & 0x0F
	var mag int32
	if seg == 0 {
		mag = mant<<1 + 1
	} else {
		mag = (mant<<1 + 33) << (seg - 1)
	}
	mag <<= 3
	if c&0x80 != 0 {
		return int16(mag)
	}
	return int16(-mag)
}

// MuLawDecode returns the 16-bit linear value of a μ-law code.
func MuLawDecode(code byte) int16 { return muLawTable[code] }

// ALawDecode returns the 16-bit linear value of an A-law code.
func ALawDecode(code byte) int16 { return aLawTable[code] }

// MuLawEncode quantizes a 16-bit linear sample to a μ-law code.
func MuLawEncode(s int16) byte {
	sign := byte(0x80)
	x := int32(s)
	if x < 0 {
		sign, x = 0, ^x
	}
	v := x>>2 + 33 // 14-bit magnitude plus the curve's bias
	v = min(v, 0x1FFF)
	seg := int32(0)
	for v >= 64<<seg {
		seg++
	}
	mant := (v >> (seg + 1)) & 0x0F
	return ^(byte(seg<<4)|byte(mant))&0x7F | sign
}

// ALawEncode quantizes a 16-bit linear sample to an A-law code.
func ALawEncode(s int16) byte {
	sign := byte(0x80)
	x := int32(s)
	if x < 0 {
		sign, x = 0, ^x
	}
	v := x >> 4 // magnitude in steps of 16 (2 in G.711's 13-bit scale)
	var seg, mant int32
	if v < 16 {
		mant = v
	} else {
		seg = 1
		for v >= 32<<(seg-1) {
			seg++
		}
		mant = (v >> (seg - 1)) & 0x0F
	}
	return (byte(seg<<4) | byte(mant) | sign) ^ 0x55
}

// AppendMuLaw decodes μ-law codes (audio/pcmu) to float32 samples
// (linear/32768), appending to dst.
func AppendMuLaw(dst []float32, codes []byte) []float32 {
	dst = growFloats(dst, len(codes))
	for _, c := range codes {
		dst = append(dst, float32(muLawTable[c])/32768)
	}
	return dst
}

// AppendALaw decodes A-law codes (audio/pcma) to float32 samples
// (linear/32768), appending to dst.
func AppendALaw(dst []float32, codes []byte) []float32 {
	dst = growFloats(dst, len(codes))
	for _, c := range codes {
		dst = append(dst, float32(aLawTable[c])/32768)
	}
	return dst
}

// AppendFloat32AsMuLaw encodes samples in [-1, 1] to μ-law, appending to dst.
func AppendFloat32AsMuLaw(dst []byte, src []float32) []byte {
	for _, v := range src {
		dst = append(dst, MuLawEncode(FloatToS16(v)))
	}
	return dst
}

// AppendFloat32AsALaw encodes samples in [-1, 1] to A-law, appending to dst.
func AppendFloat32AsALaw(dst []byte, src []float32) []byte {
	for _, v := range src {
		dst = append(dst, ALawEncode(FloatToS16(v)))
	}
	return dst
}
