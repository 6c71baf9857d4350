package mapping

import (
	"fmt"
	"testing"
)

func TestExp(t *testing.T) {
	for _, h := range []string{
		`foo<b>"bar"</b>baz`, `<b>a</b><b>b</b>`, `<b>a</b><i>b</i>`, `<i>a</i><b>b</b>`, `x<b> x </b>y`,
		`<p>1. not list</p><p>- no</p><p># no</p><p>+ x</p><p>===</p><p>a<br>- b<br>2) c</p>`,
		`<table><tr><td>a|b</td><td><code>x|y</code></td></tr></table>`,
		"<pre>```\ncode\n```</pre>", "<code>a`b</code> <code>`x`</code>",
		`<a href="x">[y]</a> <img alt="a]b" src="i.png">`, `&amp;copy; &lt;div&gt; 5 &lt; 6 a &lt;b`,
		`C:\<b>*</b> C:\ path\`, `<b>bold<br>next</b>`, `<i>a</i><i>b</i>`, `<b><i>both</i></b>`,
		`<ul><li>a</li></ul><ul><li>b</li></ul><ol start="3"><li>c</li></ol>`, `<blockquote><ul><li>a<pre>x</pre></li></ul></blockquote>`,
		`<p>snake_case _lead trail_ a*b*c</p>`, `<s>~x~</s>`, `<h2>Title #</h2>`, `<p>[x] not a task</p>`, `<a href="https://e.com/a b(c)">t</a>`,
	} {
		md1, _ := HTMLToMarkdown(h)
		h2, _ := MarkdownToHTML(md1)
		md2, _ := HTMLToMarkdown(h2)
		fmt.Printf("HTML: %s\nMD1:  %q\nH2:   %q\nOK:   %v\n\n", h, md1, h2, md1 == md2)
	}
}
