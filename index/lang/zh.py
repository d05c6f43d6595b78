"""Chinese words and pattern fragments, as plain data. Each table says what it is for; index/lang/patterns.py
compiles them (with the English tables of index/lang/en.py) into the patterns the modules use. Order
matters where a table becomes an alternation: a longer cue comes before the shorter one it contains."""

from __future__ import annotations

from index.lang.scripts import HAN_BASIC

# Measure words a question counts in after 多少/几/哪 ("多少家", "几个"), as one character class.
CLASSIFIERS = "个位家名项次种类条点件国座届年月天日号"
# What a "how many" question counts ("多少家" → 家): the measure words a count answer is written with.
COUNTED = "个位家名项次种类条点件座届篇台部"
# Chinese numerals of headings and enumerations ("第三章", "二、", "（四）").
HEADING_NUMERALS = "一二三四五六七八九十百零〇"
# Stop-words of the keyword side: function words and question scaffolding (content words such as 安全 stay).
STOPWORDS = tuple(
    """的 地 得 了 着 过 是 在 和 与 及 以及 并 并且 或 或者 而 而且 但 但是 也 都 又 还 就 才 被 把 将 对 对于 于 """
    """以 从 到 向 为 为了
    由 之 其 这 那 这个 那个 这些 那些 此 该 各 每 某 个 们 我 你 他 她 它 我们 你们 他们 她们 它们 自己 有 没有 没 """
    """不 很 更 最 等 等等
    一个 一种 一些 中 上 下 里 内 外 吗 呢 吧 啊 呀 嘛 么 请问 请 问 什么 哪 哪些 哪个 哪里 哪儿 如何 怎么 怎样 """
    """怎么样 为什么 为何 谁 几 多少
    是否 是不是 能否 可否 有没有 即 则 如 若 如果 因为 所以 因此 通过 进行 方面 一下 之一 当中 其中 有关 关于 所 """
    """所谓 曾 已 已经 会 能 可 可以 要 应 应该""".split()
)

# Question scaffolding: interrogatives, particles and references to "this article / that meeting". They
# shape a question rather than name its subject and are removed from its keyword side.
SCAFFOLDING = (
    "请问", "请列举", "列举", "什么时候", "何时何地", "何时", "何地", "何处", "何种", "何为", "何人", "何年", "为何",
    "为什么",
    "如何", "怎么样", "怎样", "怎么",
    f"哪一?[{CLASSIFIERS}些里儿]", "哪方面", f"哪几[{CLASSIFIERS}]?", "哪", f"多少[{CLASSIFIERS}]?",
    f"几[{CLASSIFIERS}]", "第几",
    "是谁", "是什么", "是多少", "是否", "是不是", "有没有", "能否", "可否", "谁", "什么", "啥", "吗", "呢", "吧",
    "这篇", "该文", "本文", "文中", "这次", "那场", "那份", "那次", "那届", "有位", "有人",
)
# A question that asks when.
TIME_CUES = ("何时", "什么时[候间]", "什么日期", "哪个时间", "何年", "哪一?[年月天日号]", "几[月号年]")
# Words for a sum of money: "多少罚款", "经费是多少".
MONEY_WORDS = (
    "钱", "资金", "经费", "预算", "罚款", "罚金", "投资", "拨款", "资助", "融资", "金额", "费用", "美元", "欧元",
    "英镑", "日元", "人民币",
)
# Linking verbs between a money word and 多少 ("经费是多少").
MONEY_LINKS = ("是", "为", "有", "达")
# A question that asks how many: "多少", "几个", "第几" (not "哪几", which asks which).
NUMBER_CUES = ("多少", f"(?<!哪)几[{CLASSIFIERS}]", "第几")
# How fine a time a question asks for: a day, a month, a year.
GRAIN_CUES = {
    "day": ("哪一?[天日号]", "几[日号]"),
    "month": ("哪一?个?月", "几月"),
    "year": ("哪一?年", "何年"),
}
# "除了何时…之外": an "apart from" clause, whose interrogative names what is set aside, not what is asked.
# Not after a verb that 除 is part of (消除, 删除, 排除 …), not 除非.
SET_ASIDE = r"(?<![消删排清解免去剔废拆破根])除了?(?!非)[^，,。？?]{1,30}?(?:之外|以外|外)"
# A question that asks why.
REASON_CUES = ("为什么", "为何", "何以", "怎么会", "什么原因", "原因是")
# A question that asks for several things: "哪些", "列举", "三个方面".
LIST_CUES = ("哪些", "哪几", "列举", "分别", "[二两三四五六七八九十几][个项类种点条大方]")
# Who, where, which organization, what is: kinds of answer a question asks for beside a time or a count.
KIND_CUES = {
    "person": ("谁", "哪位", "何人", "什么人", "哪些人"),
    "place": ("哪里", "哪儿", "在哪", "何地", "何处", "什么地方", "哪[个座]?城市", "哪个?地方"),
    "org": (
        "哪[个家些]?(?:机构|组织|部门|委员会|公司|企业|实验室|单位|国家)", "哪家", "什么(?:机构|组织|部门)", "由谁",
    ),
    "definition": (
        "什么是", "是什么", "指什么", "什么叫", "啥叫", "啥是", "是啥", "何为", "何谓", "什么意思", "含义", "定义",
    ),
}
# What a "who / how much" question asks about sits right before these ("首任所长是谁").
FOCUS_BEFORE = ("是谁", "是多少", "为多少", "有多少")
# The characters a focus phrase is cut back to ("中国的首任所长" → 首任所长).
FOCUS_STOPS = "的之在对"
# Adverbs between a subject and its interrogative ("代表大约有多少", "成员一共是多少"): not part of the focus.
FOCUS_ADVERBS = (
    "大约", "大概", "约", "一共", "总共", "共", "最多", "最少", "至少", "目前", "现在", "如今", "到底", "究竟", "具体",
    "分别", "都",
    "又", "还", "已经", "已", "总计", "合计",
)
# The interrogative of a Chinese question, whose place an answer's words fill ("在哪里举行" ← "在瑞士日内瓦举行").
INTERROGATIVES = (
    "什么时候", "什么地方", "什么时间", "哪一?[年月天日]", "哪里", "哪儿", "何时", "何地", "何处", "哪位", "哪家",
    "哪[个些]?", "谁", "什么",
    "啥", f"多少[{CLASSIFIERS}]?", "几[个位家名项次种类条点件国座届]",
)
# A sentence that opens by referring back ("该公约", "这一机制", "上述原则") needs what it refers to.
REFERS_BACK = (
    "该", "此", "这[一些项个种次份部条场]", "上述", "前述", "其(?![他中实余次])", "本次", "此次", "它", "他们", "她们",
)

# Chinese numerals of a count or a sum ("二十", "三百万", "两").
NUMERAL_CHARS = "一二三四五六七八九十百千万亿两"
# Measure words a count is written with in a text (a count answer: "16家", "三项", "30%").
COUNT_UNITS = "个位家名项次种类条点件国座届篇台部票席人%"
# Currencies written in Chinese.
CURRENCIES = ("美元", "欧元", "英镑", "日元", "韩元", "人民币", "美金", "雷亚尔", "卢比", "新加坡元", "元")
# Titles that stand beside a person's name.
PERSON_TITLES = (
    "总统", "总理", "首相", "主席", "部长", "大臣", "秘书长", "总干事", "局长", "署长", "院长", "主任", "大使", "议员",
    "州长", "市长", "法官",
    "教授", "研究员", "首席执行官", "执行官", "创始人", "董事长", "总裁", "专员", "特使", "国务卿", "参议员", "众议员",
)
# Verbs of an event held somewhere ("在日内瓦举行"), and the words that end a place name ("…市", "…总部").
PLACE_EVENTS = ("举行", "召开", "举办", "签署", "开幕", "发布", "通过", "开放签署")
PLACE_SUFFIXES = ("市", "省", "州", "岛", "首都", "总部")
# Words that name an organization; a one-character office suffix (部 局 署 厅 院) not followed by 分 长 门.
ORG_WORDS = (
    "委员会", "组织", "机构", "基金会", "联盟", "协会", "理事会", "研究院", "研究所", "大学", "公司", "集团", "议会",
    "政府", "法院", "论坛",
    "办公室", "监管局", "管理局", "[部局署厅院](?![分长门])",
)
# Phrases that define a term ("X是指…", "所谓X").
DEFINITION_WORDS = (
    "是指", "指的是", "是一[种个项套份部类]", "定义为", "被定义", "称为", "称作", "意为", "意思是", "所谓",
    f"即[{HAN_BASIC}]", "也就是",
)
# Connectives that state a cause or a consequence.
CAUSAL = (
    "因为", "由于", "因此", "所以", "因而", "从而", "导致", "原因", "在于", "意味着", "使得", "以免", "以防", "否则",
    "之所以", "为了", "目的是",
    "旨在",
)
# What a list looks like in a text: "包括", "其一", "①", "（1）", "A、B、C".
LIST_WORDS = (
    "包括", "包含", "分别", "以及", "其一", "其二", "第一[,，、]", "[①②③④⑤]", "[(（][1-9一二三四五][)）]",
    "、[^、]{1,12}、",
)

# A line that opens a table of contents.
TOC_START = ("目\\s*录",)
# A line after which a web article's trailing boilerplate begins (related posts, references, follow-us prompts).
TAIL_MARKERS = (
    "猜你喜欢", "往期回顾", "往期推荐", "推荐阅读", "相关阅读", "延伸阅读", "热门推荐", "精彩推荐", "参考文献",
    "参考资料",
)
TAIL_PROMPTS = (
    "继续滑动看下一个", "向上滑动看下一个", "您可能也对以下帖子感兴趣", "转自\\s*[|丨｜:：].*",
    "(点击|长按).{0,12}(关注|订阅|二维码).*",
)
# Lines of page furniture: image placeholders, share buttons, credits.
FURNITURE = ("图片", "查看原文", "阅读原文", "收藏本文", "分享", "在看", "点赞", "视频")
# Labels of an image credit ("图源：新华社"); a line may also open with 来源图.
INLINE_CREDIT_WORDS = ("图源", "图片来源")
CREDIT_WORDS = (*INLINE_CREDIT_WORDS, "来源图")
# Words that label a figure or a table ("图1", "表2").
CAPTION_WORDS = ("图", "表")
# Labels of a metadata line ("作者：…", "来源｜…").
META_LABELS = ("作者", "来源", "编辑", "责编", "责任编辑", "撰文", "翻译", "编译", "原标题", "发布时间", "本文作者")
