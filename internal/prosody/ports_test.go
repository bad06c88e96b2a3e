package prosody

import "testing"

func TestChoosePorts(t *testing.T) {
	for range 20 {
		p, err := choosePorts(ports{})
		if err != nil {
			t.Fatal(err)
		}
		if p.c2s == 0 || p.component == 0 || p.c2s == p.component {
			t.Fatalf("choosePorts() = %+v", p)
		}
	}
	p, err := choosePorts(ports{c2s: 5222})
	if err != nil || p.c2s != 5222 || p.component == 0 || p.component == 5222 {
		t.Errorf("with a fixed c2s port: %+v, %v", p, err)
	}
}
