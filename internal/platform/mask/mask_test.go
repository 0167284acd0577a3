package mask

import "testing"

func TestMask(t *testing.T) {
	for in, want := range map[string]string{"13812345678": "138****5678", "+14155552671": "+141****2671", "": "", "123": "***", "12345": "1**45"} {
		if got := Mobile(in); got != want {
			t.Errorf("Mobile(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"zhang.san@example.com": "z***@example.com", "张三@例子.中国": "张***@例子.中国", "": ""} {
		if got := Email(in); got != want {
			t.Errorf("Email(%q) = %q, want %q", in, got, want)
		}
	}
}
