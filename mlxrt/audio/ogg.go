package audio

import (
	"encoding/binary"
	"io"
)

// Ogg framing (RFC 3533): pages of up to 255 lacing values carrying packets.

const (
	oggHeaderLen = 27
	oggContinued = 0x01
	oggBOS       = 0x02
	oggEOS       = 0x04
)

var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04C11DB7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggCRC is the page checksum: CRC-32, polynomial 0x04C11DB7, not
// reflected, zero initial value and no final xor.
func oggCRC(crc uint32, b []byte) uint32 {
	for _, v := range b {
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^v]
	}
	return crc
}

// oggPage is one parsed page; body and lacing alias the input.
type oggPage struct {
	flags   byte
	granule int64
	serial  uint32
	seq     uint32
	lacing  []byte
	body    []byte
}

// oggReader walks the pages of an in-memory Ogg stream.
type oggReader struct {
	data []byte
	pos  int
}

// next returns the next page, io.EOF at a clean end, or a KindInvalid
// error for a truncated or corrupt page.
func (r *oggReader) next() (*oggPage, error) {
	if r.pos == len(r.data) {
		return nil, io.EOF
	}
	b := r.data[r.pos:]
	if len(b) < oggHeaderLen {
		return nil, truncated("Ogg")
	}
	if string(b[:4]) != "OggS" || b[4] != 0 {
		return nil, invalidf("malformed Ogg file: no page at byte %d", r.pos)
	}
	nseg := int(b[26])
	if len(b) < oggHeaderLen+nseg {
		return nil, truncated("Ogg")
	}
	lacing := b[oggHeaderLen : oggHeaderLen+nseg]
	size := 0
	for _, l := range lacing {
		size += int(l)
	}
	end := oggHeaderLen + nseg + size
	if len(b) < end {
		return nil, truncated("Ogg")
	}
	want := binary.LittleEndian.Uint32(b[22:])
	crc := oggCRC(0, b[:22])
	crc = oggCRC(crc, []byte{0, 0, 0, 0})
	crc = oggCRC(crc, b[26:end])
	if crc != want {
		return nil, invalidf("corrupt Ogg file: checksum mismatch in the page at byte %d", r.pos)
	}
	r.pos += end
	return &oggPage{
		flags:   b[5],
		granule: int64(binary.LittleEndian.Uint64(b[6:])),
		serial:  binary.LittleEndian.Uint32(b[14:]),
		seq:     binary.LittleEndian.Uint32(b[18:]),
		lacing:  lacing,
		body:    b[oggHeaderLen+nseg : end],
	}, nil
}

// oggPacketizer reassembles the packets of one logical stream.
type oggPacketizer struct {
	partial []byte
	open    bool // partial holds a packet continued on the next page
}

// add splits a page into packets, calling emit for each complete one; a
// packet left open at the end of the page continues on the next.
func (p *oggPacketizer) add(pg *oggPage, emit func(packet []byte) error) error {
	if p.open && pg.flags&oggContinued == 0 {
		return invalidf("malformed Ogg file: a packet is cut off between pages")
	}
	body := pg.body
	for _, l := range pg.lacing {
		seg := body[:l]
		body = body[l:]
		if p.open || l == 255 {
			p.partial = append(p.partial, seg...)
		}
		if l == 255 {
			p.open = true
			continue
		}
		pkt := seg
		if p.open {
			pkt = append([]byte(nil), p.partial...)
		}
		if err := emit(pkt); err != nil {
			return err
		}
		p.partial, p.open = p.partial[:0], false
	}
	return nil
}

// oggWriter builds pages of one logical stream. Packets never span pages;
// Flush closes the current page so a client can start playing it.
type oggWriter struct {
	w       io.Writer
	serial  uint32
	seq     uint32
	lacing  []byte
	body    []byte
	granule int64
	page    []byte
}

// add queues a packet ending at granule position granule, flushing first
// when the page would exceed 255 lacing values or about 4 KiB.
func (o *oggWriter) add(packet []byte, granule int64) error {
	segs := len(packet)/255 + 1
	if len(o.lacing) > 0 && (len(o.lacing)+segs > 255 || len(o.body)+len(packet) > 4096) {
		if err := o.flush(0); err != nil {
			return err
		}
	}
	for n := len(packet); ; n -= 255 {
		if n < 255 {
			o.lacing = append(o.lacing, byte(n))
			break
		}
		o.lacing = append(o.lacing, 255)
	}
	o.body = append(o.body, packet...)
	o.granule = granule
	return nil
}

// flush writes the pending packets as one page with extra flags (BOS,
// EOS). An EOS flush writes a page even if no packet is pending.
func (o *oggWriter) flush(flags byte) error {
	if len(o.lacing) == 0 && flags&oggEOS == 0 {
		return nil
	}
	b := append(o.page[:0], "OggS"...)
	b = append(b, 0, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(o.granule))
	b = binary.LittleEndian.AppendUint32(b, o.serial)
	b = binary.LittleEndian.AppendUint32(b, o.seq)
	b = append(b, 0, 0, 0, 0, byte(len(o.lacing)))
	b = append(b, o.lacing...)
	b = append(b, o.body...)
	binary.LittleEndian.PutUint32(b[22:], oggCRC(0, b))
	o.page = b
	o.seq++
	o.lacing, o.body = o.lacing[:0], o.body[:0]
	_, err := o.w.Write(b)
	return err
}
