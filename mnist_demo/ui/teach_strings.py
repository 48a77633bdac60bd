"""The My digits panel's text (Draw tab), English and Simplified Chinese; merged into `i18n.STRINGS`."""

TEACH_STRINGS: dict[str, dict[str, str]] = {
    "teach.title": {"en": "### Teach it your handwriting",
                    "zh": "### 教它认识你的笔迹"},
    "teach.hint": {
        "en": "Wrong answer (or right)? Press the digit you meant: the drawing goes into **My digits**, kept in this "
              "browser tab only. A few of each digit, then **Teach** fine-tunes a copy of the chosen network on them.",
        "zh": "答错了（或者答对了）？点你写的那个数字：这幅画就会存进**我的数字**，只保存在这个浏览器标签页里。"
              "每个数字写几个，再点**教它**，就会用它们微调所选网络的一个副本。",
    },
    "teach.my_digits": {"en": "My digits", "zh": "我的数字"},
    "teach.empty": {"en": "No digits yet: draw one and press the digit you meant.",
                    "zh": "还没有数字：先写一个，再点你写的那个数字。"},
    "teach.count": {"en": "{count} of at most {cap} digits", "zh": "共 {count} 个（最多 {cap} 个）"},
    "teach.added": {"en": "✅ Kept as **{label:a}** ({label}s kept: {count}).",
                    "zh": "✅ 已存为 **{label}**（现在有 {count} 个 {label}）。"},
    "teach.nothing": {"en": "✏️ Draw a digit (or upload one) first, then press the digit you meant.",
                      "zh": "✏️ 请先写一个数字（或上传一张），再点你写的那个数字。"},
    "teach.full": {"en": "⚠️ My digits is full ({cap} digits): delete some, or download them and start again.",
                   "zh": "⚠️ 我的数字已满（{cap} 个）：请删除一些，或者先下载再重新开始。"},
    "teach.delete_pick": {"en": "Delete a digit", "zh": "删除一个数字"},
    "teach.delete": {"en": "Delete", "zh": "删除"},
    "teach.deleted": {"en": "Deleted.", "zh": "已删除。"},
    "teach.start": {"en": "🎓 Teach it my handwriting", "zh": "🎓 教它认识我的笔迹"},
    "teach.stop": {"en": "Stop", "zh": "停止"},
    "teach.download": {"en": "⬇ Download My digits (zip)", "zh": "⬇ 下载我的数字（zip）"},
    "teach.upload": {"en": "⬆ Add digits from a zip", "zh": "⬆ 从 zip 添加数字"},
    "teach.zip": {"en": "My digits as a dataset (PNGs, labels.csv, MNIST IDX files)",
                  "zh": "我的数字数据集（PNG、labels.csv、MNIST IDX 文件）"},
    "teach.uploaded": {"en": "✅ Added {count:plural:digit:digits} from the zip.", "zh": "✅ 已从 zip 添加 {count} 个数字。"},
    "teach.bad_zip": {"en": "⚠️ This zip can't be used: {detail}", "zh": "⚠️ 无法使用这个 zip：{detail}"},
    "teach.need_digits": {"en": "✏️ Add some of your digits first (a few of each).",
                          "zh": "✏️ 请先添加一些你写的数字（每个数字几个）。"},
    "teach.busy": {"en": "⏳ This tab is already training or teaching: wait for it to end, or stop it.",
                   "zh": "⏳ 这个标签页正在训练或教学：请等它结束，或先停止。"},
    "teach.queued": {"en": "⏳ Waiting for a free training slot (place {position} in line)…",
                     "zh": "⏳ 正在等待空闲的训练名额（排第 {position} 位）……"},
    "teach.running": {"en": "🎓 Teaching on {count} of your digits mixed with MNIST: {percent} done, {seconds} s",
                      "zh": "🎓 正在用你的 {count} 个数字（混合 MNIST）教学：已完成 {percent}，{seconds} 秒"},
    "teach.cancelled": {"en": "Teaching cancelled.", "zh": "教学已取消。"},
    "teach.failed": {"en": "⚠️ Teaching failed: {error}", "zh": "⚠️ 教学失败：{error}"},
    "teach.done": {
        "en": "✅ **{name}** is ready in every model picker (this tab only){stopped}. It took {seconds} s.",
        "zh": "✅ **{name}** 已加入每个模型选择框（仅限本标签页）{stopped}。用时 {seconds} 秒。",
    },
    "teach.stopped_note": {"en": ", stopped early", "zh": "，提前停止"},
    "teach.testing": {"en": "📏 Testing the taught network: MNIST's 10,000 test digits, then your {held} digits kept "
                            "apart… {seconds} s",
                      "zh": "📏 正在测试教过的网络：MNIST 的 10,000 个测试数字，然后是你留出的 {held} 个数字……{seconds} 秒"},
    "teach.testing_mnist": {"en": "📏 Testing the taught network on MNIST's 10,000 test digits… {seconds} s",
                            "zh": "📏 正在用 MNIST 的 10,000 个测试数字测试教过的网络……{seconds} 秒"},
    "teach.handing_over": {"en": "📦 Handing the taught network over to this page… {seconds} s",
                           "zh": "📦 正在把教过的网络交给本页面……{seconds} 秒"},
    "teach.back": {"en": "↩ Back to {title}", "zh": "↩ 换回 {title}"},
    "teach.figure": {"en": "{right} of {total} ({pct})", "zh": "{total} 个中对 {right} 个（{pct}）"},
    "teach.table": {
        "en": "| right answers | before | after |\n|---|---:|---:|\n"
              "| your {held} digits kept apart from the teaching | {mine_before} | {mine_after} |\n"
              "| MNIST test set (10,000 digits) | {mnist_before} | {mnist_after} |\n\n"
              "Taught on {taught} of your {total} digits; the other {held} (from every digit you gave) only measure "
              "it, so one digit is {points} points there. Before teaching, on all your digits: {before_all} right.",
        "zh": "| 答对 | 之前 | 之后 |\n|---|---:|---:|\n"
              "| 你留出、没参与教学的 {held} 个数字 | {mine_before} | {mine_after} |\n"
              "| MNIST 测试集（10,000 个数字） | {mnist_before} | {mnist_after} |\n\n"
              "用你 {total} 个数字中的 {taught} 个来教；另外 {held} 个（来自你写的每个数字）只用来衡量，"
              "所以其中一个数字就是 {points} 个百分点。教之前，它在你全部数字上：{before_all}。",
    },
    "teach.table_unmeasured": {
        "en": "| right answers | before | after |\n|---|---:|---:|\n"
              "| MNIST test set (10,000 digits) | {mnist_before} | {mnist_after} |\n\n"
              "**Your digits: not measured.** With {total:plural:digit:digits}, keeping {measured} apart would leave "
              "too few to teach with, and fewer than {measured} would make each one worth over 5 points; so all of "
              "them were taught. From {min} digits on, {measured} or more are kept apart to give a before and after. Before "
              "teaching, on all your digits: {before_all} right.",
        "zh": "| 答对 | 之前 | 之后 |\n|---|---:|---:|\n"
              "| MNIST 测试集（10,000 个数字） | {mnist_before} | {mnist_after} |\n\n"
              "**你的数字：没有衡量。** 只有 {total} 个数字时，留出 {measured} 个就剩得太少，没法教；"
              "留出少于 {measured} 个，每个数字又会超过 5 个百分点。所以 {total} 个全部用来教。"
              "从 {min} 个数字起，会留出 {measured} 个以上，给出教之前和之后的对比。教之前，它在你的数字上：{before_all}。",
    },
}
