//go:build ignore

// extract_ttc writes face 0 of a TrueType collection (.ttc) as a standalone
// .ttf: gopdf (and fpdf) read only plain TrueType files. It copies the
// face's table directory and tables, 4-byte aligned, with fresh offsets; the
// table checksums stay valid because table bytes are copied unchanged.
//
//	go run extract_ttc.go /usr/share/fonts/truetype/wqy/wqy-microhei.ttc wqy-microhei.ttf
package main

import (
	"encoding/binary"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: extract_ttc in.ttc out.ttf")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	be := binary.BigEndian
	if string(in[:4]) != "ttcf" {
		panic("not a TrueType collection")
	}
	face := be.Uint32(in[12:]) // offset of the first face's offset table
	numTables := int(be.Uint16(in[face+4:]))
	head := 12 + 16*numTables
	out := make([]byte, head)
	copy(out, in[face:face+12])
	for i := 0; i < numTables; i++ {
		rec := in[int(face)+12+16*i : int(face)+12+16*i+16]
		off, length := be.Uint32(rec[8:]), be.Uint32(rec[12:])
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		newOff := uint32(len(out))
		out = append(out, in[off:off+length]...)
		dst := out[12+16*i : 12+16*i+16]
		copy(dst, rec)
		be.PutUint32(dst[8:], newOff)
	}
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	if err := os.WriteFile(os.Args[2], out, 0o644); err != nil {
		panic(err)
	}
	fmt.Printf("%d tables, %d bytes\n", numTables, len(out))
}
