"""The My digits panel's text (Draw tab), English and Simplified Chinese; merged into `i18n.STRINGS`."""

TEACH_STRINGS: dict[str, dict[str, str]] = {
    "teach.its.0": {"en": "It's a 0", "zh": "这是 0"},
    "teach.its.1": {"en": "It's a 1", "zh": "这是 1"},
    "teach.its.2": {"en": "It's a 2", "zh": "这是 2"},
    "teach.its.3": {"en": "It's a 3", "zh": "这是 3"},
    "teach.its.4": {"en": "It's a 4", "zh": "这是 4"},
    "teach.its.5": {"en": "It's a 5", "zh": "这是 5"},
    "teach.its.6": {"en": "It's a 6", "zh": "这是 6"},
    "teach.its.7": {"en": "It's a 7", "zh": "这是 7"},
    "teach.its.8": {"en": "It's a 8", "zh": "这是 8"},
    "teach.its.9": {"en": "It's a 9", "zh": "这是 9"},
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
    "teach.added": {"en": "✅ Kept as a **{label}** ({count} of {label} now).",
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
    "teach.uploaded": {"en": "✅ Added {count} digits from the zip.", "zh": "✅ 已从 zip 添加 {count} 个数字。"},
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
    "teach.table": {
        "en": "| | before | after |\n|---|---:|---:|\n| your {held} held-out digits | {mine_before} | {mine_after} |\n"
              "| MNIST test set (10,000) | {mnist_before} | {mnist_after} |\n\n"
              "Held out: every 5th digit of each label was kept out of the teaching and measures it "
              "({taught} digits taught).",
        "zh": "| | 之前 | 之后 |\n|---|---:|---:|\n| 你留出的 {held} 个数字 | {mine_before} | {mine_after} |\n"
              "| MNIST 测试集（10,000） | {mnist_before} | {mnist_after} |\n\n"
              "留出法：每个数字每第 5 个不参与教学，只用来衡量效果（教学用了 {taught} 个）。",
    },
    "teach.no_held": {"en": "n/a (add 5 or more of a digit)", "zh": "无（某个数字需 5 个以上）"},
}
